export type {
	CredentialTestResult,
	HarnessWorkflow,
	RunWorkflowOptions,
	WorkflowRunResult,
} from './engine';
export { runWorkflow, testCredential } from './engine';
export type { HarnessCredential } from './credentials-helper';
export { harnessLogger } from './logging';
export {
	EditFields,
	Form,
	FormTrigger,
	ManualTrigger,
	NoOp,
	ReadWriteFile,
	StickyNote,
	standInNodeTypes,
} from './standin-nodes';
export type {
	ActivationResult,
	RunWebhookOptions,
	WebhookListener,
	WebhookRequest,
	WebhookRunResult,
} from './webhook';
export { activateWebhook, runWebhook, startWebhookListener } from './webhook';
export type { ListSearchCall } from './list-search';
export { runListSearch } from './list-search';
export type { WaitingCall, WaitingServer } from './waiting';
export { startWaitingServer } from './waiting';
