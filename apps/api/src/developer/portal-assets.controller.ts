import { Controller, Get, Header } from '@nestjs/common';

/**
 * The portal's only script, an enhancement: "Copy" buttons (hidden without
 * JavaScript) copy the text of the element named by `data-copy`.
 */
export const PORTAL_SCRIPT = `(() => {
  for (const button of document.querySelectorAll('button.copy[data-copy]')) {
    const target = document.getElementById(button.dataset.copy);
    if (!target) continue;
    button.hidden = false;
    button.addEventListener('click', async () => {
      const text = target.textContent;
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        const range = document.createRange();
        range.selectNodeContents(target);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        document.execCommand('copy');
      }
      const label = button.textContent;
      button.textContent = 'Copied';
      button.setAttribute('aria-live', 'polite');
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }
})();
`;

@Controller()
export class PortalAssetsController {
  @Get('assets/portal.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  script() {
    return PORTAL_SCRIPT;
  }
}
