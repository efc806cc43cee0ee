export * from './ids.js';
export * from './topics.js';
export * from './canonical.js';
export * from './schemas.js';
export * from './signing.js';
export * from './verify.js';
export * from './expand.js';
export * from './envelope.js';
