export * from './dto/model-definition.type.js';
export * from './models.repository.js';
export * from './models.service.js';
