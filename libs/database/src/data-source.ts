// DataSource for the TypeORM CLI (e.g. `npx typeorm migration:show -d dist/libs/database/src/data-source.js`).
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { dataSourceOptions } from './options';

export default new DataSource(dataSourceOptions(loadConfig()));
