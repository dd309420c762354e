export { createTestDatabase, hasPostgres, postgresUrl, type TestDatabase } from './database.ts';
