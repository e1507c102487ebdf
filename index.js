'use strict';
// Programmatic entry point: the compiled node and credential classes (run `npm run build` first).
const {
	ReplicateInpainting,
} = require('./dist/nodes/ReplicateInpainting/ReplicateInpainting.node');
const {
	ReplicateInpaintingTrigger,
} = require('./dist/nodes/ReplicateInpaintingTrigger/ReplicateInpaintingTrigger.node');
const { ReplicateInpaintingApi } = require('./dist/credentials/ReplicateInpaintingApi.credentials');

module.exports = { ReplicateInpainting, ReplicateInpaintingTrigger, ReplicateInpaintingApi };
