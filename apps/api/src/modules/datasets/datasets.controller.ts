import { createReadStream } from 'node:fs';

import { Body, Controller, Get, HttpCode, Param, Post, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';

import type { Dataset } from '#libs/domain/datasets';
import { DatasetsService, UploadDatasetFields } from '#libs/domain/datasets';

import { DiscardUploadOnError } from './discard-upload.interceptor.js';

const CONTENT_TYPES: Record<string, string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
  images: 'application/zip',
};

@Controller('v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  /**
   * The body is streamed to disk by multer's disk storage (see DatasetsModule), never held in memory; an upload
   * refused by the fields' rules or by the service leaves no file behind (DiscardUploadOnError).
   */
  @Post()
  @HttpCode(201)
  @UseInterceptors(FileInterceptor('file'), DiscardUploadOnError)
  upload(@UploadedFile() file: Express.Multer.File | undefined, @Body() fields: UploadDatasetFields): Promise<Dataset> {
    const upload = file && { path: file.path, originalName: file.originalname };
    const { name, format } = fields ?? {}; // a request that is not multipart has no body at all
    return this.datasets.create(upload, name, format);
  }

  @Get(':id/download')
  async download(@Param('id') id: string, @Res() response: Response): Promise<void> {
    const dataset = await this.datasets.get(id);
    response.setHeader('Content-Type', CONTENT_TYPES[dataset.format] ?? 'application/octet-stream');
    response.setHeader(
      'Content-Disposition',
      `attachment; filename="dataset-${dataset.id}.${dataset.format === 'images' ? 'zip' : dataset.format}"`,
    );
    response.setHeader('Content-Length', String(dataset.sizeBytes));
    createReadStream(this.datasets.filePath(dataset.id)).pipe(response);
  }
}
