export { CODES, statusOf, type ErrorCode } from './codes.js';
export * from './classes.js';
export { toWireError, fromWireError, wireErrorOf, errorBody, STATUS_TEXT, type WireError, type ErrorBody, type StreamErrorBody } from './wire.js';
