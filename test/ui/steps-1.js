'use strict';
/** n8n 1.123: the nodes panel (the "can't be found" was seen in 1.x and 2.x alike). */
const { nodesPanel } = require('./steps-2');

exports.run = async function run(t) {
	await nodesPanel(t);
};
