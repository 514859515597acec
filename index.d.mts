/**
 * tad-store, ESM typings (`import Store from 'tad-store'` under node16 /
 * nodenext / bundler resolution). The class and every type are those of the
 * CommonJS typings (`index.d.ts`): `Store` is the same class, and each member of
 * its namespace is also a named type export here (`import type { Options } from 'tad-store'`).
 */

import Store from './index.js';

export import JSONSchemaTypeName = Store.JSONSchemaTypeName;
export import JSONSchemaValue = Store.JSONSchemaValue;
export import JSONSchemaFormat = Store.JSONSchemaFormat;
export import JSONSchema = Store.JSONSchema;
export import JSONSchemaObject = Store.JSONSchemaObject;
export import ValueSchema = Store.ValueSchema;
export import Schema = Store.Schema;
export import HistoryOptions = Store.HistoryOptions;
export import BackupOptions = Store.BackupOptions;
export import Migrations = Store.Migrations;
export import MigrationStep = Store.MigrationStep;
export import BeforeEachMigrationContext = Store.BeforeEachMigrationContext;
export import BeforeEachMigrationCallback = Store.BeforeEachMigrationCallback;
export import Serialize = Store.Serialize;
export import Deserialize = Store.Deserialize;
export import SecretKey = Store.SecretKey;
export import Options = Store.Options;
export import Inspection = Store.Inspection;
export import OnDidChangeCallback = Store.OnDidChangeCallback;
export import OnDidAnyChangeCallback = Store.OnDidAnyChangeCallback;
export import ChangeListener = Store.ChangeListener;
export import Unsubscribe = Store.Unsubscribe;
export import BackupInfo = Store.BackupInfo;
export import HistoryEntry = Store.HistoryEntry;
export import HistorySummary = Store.HistorySummary;
export import RollbackResult = Store.RollbackResult;
export import RotationReport = Store.RotationReport;
export import ValidationResult = Store.ValidationResult;
export import CloseOptions = Store.CloseOptions;
export import OperationStats = Store.OperationStats;
export import FlushOptions = Store.FlushOptions;
export import PerformanceStats = Store.PerformanceStats;
export import StoreInfo = Store.StoreInfo;
export import RecoveryReport = Store.RecoveryReport;
export import HealthReport = Store.HealthReport;
export import StoreErrorCode = Store.StoreErrorCode;
export import StoreError = Store.StoreError;

export { Store };
export default Store;
