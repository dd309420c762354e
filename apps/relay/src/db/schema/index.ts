// Every table of the relay; drizzle-kit reads this file to generate the migrations.
export * from './core.ts';
export * from './delivery.ts';
export * from './portal.ts';
