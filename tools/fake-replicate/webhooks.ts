/**
 * Webhooks as Replicate sends them: the signing secret endpoint, and deliveries of a prediction's
 * events signed with it (Standard Webhooks: HMAC-SHA256 over id.timestamp.body), retried with backoff.
 */
import crypto from 'node:crypto';
import http from 'node:http';

import { LOOPBACK_HOSTS, randomId, type ServerCore } from './core';
import type { ApiRoute, Run, WebhookDelivery } from './types';
import type { WebhookEvent } from './validation';

export class WebhooksApi {
	readonly secret: string;
	readonly deliveries: WebhookDelivery[] = [];
	private readonly key: Buffer;

	readonly routes: ApiRoute[] = [
		{
			method: 'GET',
			pattern: /^\/webhooks\/default\/secret$/,
			name: 'GET /webhooks/default/secret',
			handle: () => ({ status: 200, json: { key: this.secret } }),
		},
	];

	constructor(private readonly core: ServerCore) {
		this.key = crypto.randomBytes(24);
		this.secret = `whsec_${this.key.toString('base64')}`;
	}

	send(run: Run, event: WebhookEvent): void {
		const target = run.webhook;
		if (!target || !run.webhookEvents.includes(event) || this.core.closed) return;
		// Snapshot now: the delivery describes the prediction at the moment of the event.
		const body = JSON.stringify(run.prediction);
		run.webhookChain = run.webhookChain.then(() =>
			this.deliver(run.prediction.id, event, target, body),
		);
	}

	private async deliver(
		predictionId: string,
		event: WebhookEvent,
		target: string,
		body: string,
	): Promise<void> {
		const webhookId = `msg_${randomId(27)}`;
		const delivery: WebhookDelivery = {
			predictionId,
			event,
			url: target,
			webhookId,
			attempts: 0,
			status: null,
			at: Date.now(),
		};
		this.deliveries.push(delivery);
		const url = new URL(target);
		if (!LOOPBACK_HOSTS.has(url.hostname) || url.protocol !== 'http:') {
			delivery.error = 'not delivered: the fake Replicate posts webhooks only to http://127.0.0.1';
			return;
		}
		const { webhookRetries, webhookRetryDelayMs } = this.core.options;
		for (let attempt = 0; attempt <= webhookRetries && !this.core.closed; attempt++) {
			if (attempt > 0) await this.core.sleep(webhookRetryDelayMs * 2 ** (attempt - 1));
			if (this.core.closed) return;
			const timestamp = Math.floor(Date.now() / 1000).toString();
			const signature = crypto
				.createHmac('sha256', this.key)
				.update(`${webhookId}.${timestamp}.${body}`)
				.digest('base64');
			delivery.attempts++;
			try {
				delivery.status = await this.post(url, body, {
					'content-type': 'application/json',
					'user-agent': 'Replicate-Webhooks/fake',
					'webhook-id': webhookId,
					'webhook-timestamp': timestamp,
					'webhook-signature': `v1,${signature}`,
				});
				delivery.error = undefined;
				if (delivery.status >= 200 && delivery.status < 300) return;
			} catch (error) {
				delivery.status = null;
				delivery.error = (error as Error).message;
			}
		}
	}

	private post(url: URL, body: string, headers: Record<string, string>): Promise<number> {
		return new Promise((resolve, reject) => {
			const request = http.request(
				url,
				{
					method: 'POST',
					agent: this.core.outgoingAgent,
					timeout: 10_000,
					headers: { ...headers, 'content-length': Buffer.byteLength(body) },
				},
				(response) => {
					response.resume();
					response.on('end', () => resolve(response.statusCode ?? 0));
					response.on('error', reject);
				},
			);
			request.on('timeout', () => request.destroy(new Error('timed out')));
			request.on('error', reject);
			request.end(body);
		});
	}
}
