import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { notFound } from '@app/common';
import { OpenApiDocument } from './openapi-document';
import { DOCS_CSS, DOCS_INIT, docsPage } from './docs.view';

interface Asset {
  type: string;
  body: string;
}

/** swagger-ui's files, read once from the installed package: LoginSign serves them itself (no CDN). */
function loadAssets(): Map<string, Asset> {
  const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const file = (name: string, type: string): [string, Asset] => [name, { type, body: readFileSync(path.join(dist, name), 'utf8') }];
  return new Map([
    file('swagger-ui.css', 'text/css; charset=utf-8'),
    file('swagger-ui-bundle.js', 'text/javascript; charset=utf-8'),
    ['docs.css', { type: 'text/css; charset=utf-8', body: DOCS_CSS }],
    ['docs-init.js', { type: 'text/javascript; charset=utf-8', body: DOCS_INIT }],
  ]);
}

/** `GET /openapi.json` (generated at startup) and `GET /docs`, which renders it with swagger-ui. */
@ApiExcludeController()
@Controller()
export class DocsController {
  private readonly assets = loadAssets();

  constructor(private readonly openApi: OpenApiDocument) {}

  @Get('openapi.json')
  @Header('cache-control', 'no-cache')
  document() {
    if (!this.openApi.document) throw notFound('The API document');
    return this.openApi.document;
  }

  /** The page loads only files served here: the same CSP as every other page ('self' scripts and styles, no inline code). */
  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  page() {
    return docsPage();
  }

  @Get('docs/assets/:file')
  @Header('cache-control', 'public, max-age=3600')
  asset(@Param('file') file: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const asset = this.assets.get(file);
    if (!asset) throw notFound('The file');
    reply.type(asset.type);
    return asset.body;
  }
}
