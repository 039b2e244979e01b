import { createReadStream } from 'node:fs';
import { Body, Controller, Get, HttpCode, Param, Post, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import { AppError } from '#libs/core/errors';
import { DatasetsService } from '#libs/domain/datasets';
import type { Dataset } from '#libs/domain/datasets';

const CONTENT_TYPES: Record<string, string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
  images: 'application/zip',
};

/**
 * A multipart text field, once: a field sent twice, or as `name[]` / `format[a]` (which multer turns into an array
 * or an object), is refused naming it.
 */
function textField(body: Record<string, unknown> | undefined, key: 'name' | 'format'): string | undefined {
  if (!body || !Object.hasOwn(body, key)) return undefined;
  const value = body[key];
  if (typeof value !== 'string') throw AppError.badInput(`${key}: send the "${key}" field once, as plain text`);
  if (/\p{Cc}/u.test(value)) throw AppError.badInput(`${key}: must not contain control characters (such as NUL)`);
  return value;
}

@Controller('v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  /** The body is streamed to disk by multer's disk storage (see DatasetsModule), never held in memory. */
  @Post()
  @HttpCode(201)
  @UseInterceptors(FileInterceptor('file'))
  async upload(
    @UploadedFile() file: Express.Multer.File | undefined,
    @Body() body: Record<string, unknown> | undefined,
  ): Promise<Dataset> {
    const upload = file && { path: file.path, originalName: file.originalname };
    let name: string | undefined;
    let format: string | undefined;
    try {
      name = textField(body, 'name');
      format = textField(body, 'format');
    } catch (error) {
      if (upload) await this.datasets.discardUpload(upload.path);
      throw error;
    }
    return this.datasets.create(upload, name, format);
  }

  @Get(':id/download')
  async download(@Param('id') id: string, @Res() response: Response): Promise<void> {
    const dataset = await this.datasets.get(id);
    response.setHeader('Content-Type', CONTENT_TYPES[dataset.format] ?? 'application/octet-stream');
    response.setHeader('Content-Disposition', `attachment; filename="dataset-${dataset.id}.${dataset.format === 'images' ? 'zip' : dataset.format}"`);
    response.setHeader('Content-Length', String(dataset.sizeBytes));
    createReadStream(this.datasets.filePath(dataset.id)).pipe(response);
  }
}
