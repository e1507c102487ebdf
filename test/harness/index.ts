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
	ManualTrigger,
	NoOp,
	ReadWriteFile,
	StickyNote,
	standInNodeTypes,
} from './standin-nodes';
