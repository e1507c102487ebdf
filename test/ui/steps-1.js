'use strict';
/**
 * n8n 1.123: the nodes panel (the "can't be found" was seen in 1.x and 2.x alike) and any
 * model (the picker and Model Inputs are n8n features 1.x has too).
 */
const { nodesPanel } = require('./steps-2');
const anyModel = require('./steps-model');

exports.run = async function run(t) {
	await nodesPanel(t);
	await anyModel.run(t);
};
