import type {
	ICredentialType,
	ICredentialTypes,
	IDataObject,
	INodeType,
	INodeTypes,
	IVersionedNodeType,
} from 'n8n-workflow';
import { NodeHelpers, UnexpectedError } from 'n8n-workflow';

export type NodeTypeClass = new () => INodeType | IVersionedNodeType;
export type CredentialTypeClass = new () => ICredentialType;

/** Every version's description of a node type (a versioned type holds one per version). */
function allVersions(nodeType: INodeType | IVersionedNodeType): INodeType[] {
	return 'nodeVersions' in nodeType ? Object.values(nodeType.nodeVersions) : [nodeType];
}

/**
 * The node types a workflow can use, keyed by the type name workflow JSON carries. n8n keys a
 * community node as `<package name>.<description.name>`; we also accept the bare name.
 */
export class HarnessNodeTypes implements INodeTypes {
	private readonly byName = new Map<string, INodeType | IVersionedNodeType>();

	register(typeName: string, nodeType: INodeType | IVersionedNodeType): void {
		this.byName.set(typeName, nodeType);
	}

	has(typeName: string): boolean {
		return this.byName.has(typeName);
	}

	getByName(typeName: string): INodeType | IVersionedNodeType {
		const nodeType = this.byName.get(typeName);
		if (!nodeType) {
			throw new UnexpectedError(
				`Unknown node type "${typeName}". Known: ${[...this.byName.keys()].join(', ')}`,
			);
		}
		return nodeType;
	}

	getByNameAndVersion(typeName: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(typeName), version);
	}

	getKnownTypes(): IDataObject {
		return Object.fromEntries([...this.byName.keys()].map((name) => [name, { className: name }]));
	}

	/** The node types (full names) whose description lists the given credential type. */
	typesUsingCredential(credentialName: string): string[] {
		return [...this.byName.entries()]
			.filter(([, nodeType]) =>
				allVersions(nodeType).some((version) =>
					version.description.credentials?.some((credential) => credential.name === credentialName),
				),
			)
			.map(([name]) => name);
	}
}

export class HarnessCredentialTypes implements ICredentialTypes {
	private readonly byName = new Map<string, ICredentialType>();

	constructor(
		credentialTypes: ICredentialType[],
		private readonly nodeTypes?: HarnessNodeTypes,
	) {
		for (const credentialType of credentialTypes)
			this.byName.set(credentialType.name, credentialType);
	}

	recognizes(typeName: string): boolean {
		return this.byName.has(typeName);
	}

	getByName(typeName: string): ICredentialType {
		const credentialType = this.byName.get(typeName);
		if (!credentialType) {
			throw new UnexpectedError(
				`Unknown credential type "${typeName}". Known: ${[...this.byName.keys()].join(', ')}`,
			);
		}
		return credentialType;
	}

	getSupportedNodes(typeName: string): string[] {
		return this.nodeTypes?.typesUsingCredential(typeName) ?? [];
	}

	/** All types this one `extends`, transitively (how n8n spots OAuth2 credentials). */
	getParentTypes(typeName: string): string[] {
		const parents = this.byName.get(typeName)?.extends ?? [];
		return parents.flatMap((parent) => [parent, ...this.getParentTypes(parent)]);
	}
}
