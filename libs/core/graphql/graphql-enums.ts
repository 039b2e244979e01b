import { registerEnumType } from '@nestjs/graphql';

import { DatasetStatus, Goal, RunStatus, SearchStrategy, SweepStatus } from '#libs/core/db';

export const ColumnType = {
  NUMBER: 'NUMBER',
  STRING: 'STRING',
  BOOLEAN: 'BOOLEAN',
  DATE: 'DATE',
  TEXT: 'TEXT',
  IMAGE: 'IMAGE',
} as const;
export type ColumnType = (typeof ColumnType)[keyof typeof ColumnType];

// The database's enums are the contract's enums; registering them once keeps the two in step.
registerEnumType(DatasetStatus, { name: 'DatasetStatus' });
registerEnumType(ColumnType, { name: 'ColumnType' });
registerEnumType(RunStatus, { name: 'RunStatus' });
registerEnumType(SweepStatus, { name: 'SweepStatus' });
registerEnumType(SearchStrategy, { name: 'SearchStrategy' });
registerEnumType(Goal, { name: 'Goal' });

export { DatasetStatus, Goal, RunStatus, SearchStrategy, SweepStatus };
