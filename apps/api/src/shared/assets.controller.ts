import { Controller, Get, Header } from '@nestjs/common';
import { STYLE } from './style';

@Controller()
export class AssetsController {
  @Get('assets/style.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  style() {
    return STYLE;
  }
}
