export { createFakeReplicate, startFakeReplicate } from './server';
export { parseMultipart } from './http';
export { paddedPng } from './outputs';
export { TERMINAL } from './types';
export type {
	FakeReplicate,
	FakeReplicateOptions,
	FakeReplicateStats,
	Fault,
	Prediction,
	PredictionScript,
	PredictionStatus,
	RecordedRequest,
	WebhookDelivery,
} from './types';
export {
	decodePng,
	encodePng,
	encodePngAsync,
	filterScanlines,
	ihdrChunk,
	isPng,
	makeSampleImage,
	makeSamplePng,
	pngChunk,
	PngDecodeError,
	PNG_SIGNATURE,
	type PngFilter,
	type RasterImage,
} from './png';
export {
	inpaint,
	paintFor,
	prepareInputs,
	resizeNearest,
	MASK_THRESHOLD,
	InputImageError,
	type PreparedInputs,
} from './inpaint';
export { checkInput, decodeDataUri, REDACTED, type InvalidField } from './inputSchema';
export {
	MODEL_NAME,
	MODEL_VERSION_ID,
	parseCancelAfter,
	parseGoDuration,
	parsePreferWait,
	validateCreatePrediction,
	WEBHOOK_EVENTS,
	type Problem,
} from './validation';
