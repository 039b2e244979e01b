export type Cell = string | number | boolean | null;
/** TEXT: free text (long or mostly distinct strings); IMAGE: an image's path inside an images dataset's archive. */
export type ColumnType = 'NUMBER' | 'STRING' | 'BOOLEAN' | 'DATE' | 'TEXT' | 'IMAGE';

/** Columns whose cells are strings as read. */
export function isStringType(type: ColumnType): boolean {
  return type === 'STRING' || type === 'TEXT' || type === 'IMAGE';
}

const MISSING = new Set(['', 'NA', 'NaN', 'null']);
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEAN = /^(?:true|false)$/i;
const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Whether already-trimmed text is one of the contract's missing markers: empty, NA, NaN, null. */
export function isMissingText(text: string): boolean {
  return MISSING.has(text);
}

/** Whether already-trimmed text is written as a decimal number (1e400 is, though no double holds it). */
export function isNumberText(text: string): boolean {
  return NUMBER.test(text);
}

/** The finite number already-trimmed text spells, or undefined. */
export function parseNumberText(text: string): number | undefined {
  if (!isNumberText(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** An empty cell, NA, NaN or null is missing (the contract's list), as is JSON null. */
export function isMissing(cell: Cell | undefined): cell is null | undefined | '' {
  if (cell === null || cell === undefined) return true;
  if (typeof cell === 'string') return isMissingText(cell.trim());
  if (typeof cell === 'number') return Number.isNaN(cell);
  return false;
}

export function asNumber(cell: Cell): number | undefined {
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell : undefined;
  if (typeof cell === 'boolean') return cell ? 1 : 0;
  if (typeof cell === 'string') {
    const text = cell.trim();
    if (isNumberText(text)) return parseNumberText(text);
    if (BOOLEAN.test(text)) return text.toLowerCase() === 'true' ? 1 : 0;
  }
  return undefined;
}

export function isBooleanCell(cell: Cell): boolean {
  return typeof cell === 'boolean' || (typeof cell === 'string' && BOOLEAN.test(cell.trim()));
}

export function isDateCell(cell: Cell): boolean {
  return typeof cell === 'string' && DATE.test(cell.trim()) && !Number.isNaN(Date.parse(cell.trim()));
}

/** Milliseconds since 1970 for a DATE cell, the number a date feature is fed as. */
export function dateValue(cell: Cell): number | undefined {
  if (typeof cell === 'number') return cell;
  if (typeof cell !== 'string') return undefined;
  const ms = Date.parse(cell.trim());
  return Number.isNaN(ms) ? undefined : ms;
}

/** The typed value of a non-missing cell of a column of the given type. */
export function typedCell(cell: Cell, type: ColumnType): Cell {
  if (isMissing(cell)) return null;
  switch (type) {
    case 'NUMBER':
      return asNumber(cell) ?? null;
    case 'BOOLEAN':
      return typeof cell === 'boolean' ? cell : String(cell).trim().toLowerCase() === 'true';
    case 'DATE':
      return dateValue(cell) ?? null;
    case 'STRING':
    case 'TEXT':
    case 'IMAGE':
      return typeof cell === 'string' ? cell : String(cell);
  }
}
