// CAP 1.2 / 1.1 in: parse and validate feed XML, then plan a Loa alert draft. Pure; the CLI wires it.
export * from './geo.js';
export * from './map.js';
export * from './parse.js';
