import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '@app/common';
import { OpenApiDocument } from './openapi-document';
import { DOCS_CSP, DOCS_CSS, DOCS_INIT, docsPage } from './docs.view';

interface Asset {
  type: string;
  body: Buffer;
}

const ASSET_NAMES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'docs.css', 'docs-init.js'];

/** swagger-ui's files, read once from the installed package: LoginSign serves them itself (no CDN). */
function loadAssets(): Map<string, Asset> {
  const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const file = (name: string, type: string): [string, Asset] => [name, { type, body: readFileSync(path.join(dist, name)) }];
  return new Map([
    file('swagger-ui.css', 'text/css; charset=utf-8'),
    file('swagger-ui-bundle.js', 'text/javascript; charset=utf-8'),
    file('favicon-32x32.png', 'image/png'),
    ['docs.css', { type: 'text/css; charset=utf-8', body: Buffer.from(DOCS_CSS) }],
    ['docs-init.js', { type: 'text/javascript; charset=utf-8', body: Buffer.from(DOCS_INIT) }],
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

  /** The page loads only files served here (DOCS_CSP: 'self' only, no inline code, no other origin). */
  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', DOCS_CSP)
  @Header('cache-control', 'no-cache')
  page() {
    return docsPage();
  }

  /** One route per file (nothing else under /docs/assets is served). */
  @Get(ASSET_NAMES.map((name) => `docs/assets/${name}`))
  @Header('cache-control', 'public, max-age=3600')
  asset(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const asset = this.assets.get(path.basename(request.routeOptions.url ?? ''));
    if (!asset) throw notFound('The file');
    reply.type(asset.type);
    return asset.body;
  }
}
