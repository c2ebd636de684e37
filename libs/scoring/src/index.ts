export * from './windows';
export * from './reference-windows';
export * from './features';
export * from './caller-model';
export * from './caller-state';
export * from './caller-state-legacy';
