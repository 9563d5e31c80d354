export * from './reset-links.service';
