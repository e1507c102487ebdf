/**
 * Replicate's account resource. GET /account is the cheapest authenticated call: the credential's
 * test uses it to tell a wrong token (401) or a wrong Base URL (404) from a right one.
 */
export const ACCOUNT_PATH = '/account';
