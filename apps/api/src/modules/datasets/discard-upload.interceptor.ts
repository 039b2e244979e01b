import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { catchError, type Observable } from 'rxjs';

import { DatasetsService } from '#libs/domain/datasets';

/**
 * Placed after FileInterceptor: the uploaded file is on disk by then, and a refusal that follows (the fields' rules
 * in the validation pipe, or the handler) removes it before the error is answered, so nothing half-written stays.
 */
@Injectable()
export class DiscardUploadOnError implements NestInterceptor {
  constructor(private readonly datasets: DatasetsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    return next.handle().pipe(
      catchError(async (error: unknown) => {
        if (request.file) await this.datasets.discardUpload(request.file.path);
        throw error;
      }),
    );
  }
}
