export * from './dataset-files.repository.js';
export * from './dataset-histograms.service.js';
export * from './datasets.repository.js';
export * from './datasets.service.js';
export * from './dto/dataset.type.js';
export * from './image-samples.service.js';
export * from './dataset-loader.js';
export * from './image-dataset-loader.js';
