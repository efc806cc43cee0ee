export * from './canonical.js';
export * from './envelope.js';
export * from './expand.js';
export * from './ids.js';
export * from './schemas.js';
export * from './signing.js';
export * from './topics.js';
export * from './verify.js';
