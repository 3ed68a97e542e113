import { AppinfraError, CODES } from '../../../errors/index.js';
import { publish } from '../../../observability/diagnostics.js';

type PolicyCode = 'RATE_LIMITED' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'PAYLOAD_TOO_LARGE';

/**
 * An ingress policy's refusal (429, 401/403, 413), published as a `rejected` boundary
 * event with its reason. It carries `statusCode` as well as `status` so that plugins that
 * answer errors their own way (mercurius on the GraphQL route) keep the status.
 */
export class PolicyError extends AppinfraError {
  readonly statusCode: number;
  constructor(code: PolicyCode, message: string = CODES[code].message, reason: string, route: string | undefined) {
    super(code, message, CODES[code].status);
    this.statusCode = this.status;
    publish('rejected', () => ({ route, reason }));
  }
}
