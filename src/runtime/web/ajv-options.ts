/**
 * The validator options the web process compiles route schemas with; `appinfra check`
 * compiles the app file's schemas with the same ones (server/cli/schema-check.ts), so a
 * schema the web process would refuse is reported before it starts.
 */
export const AJV_OPTIONS = { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false } } as const;
