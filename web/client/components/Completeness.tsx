import type { QualityResponse } from '../../shared/api-types.js';
import { missingTradesText } from '../../shared/chart-figures.js';

/** What the header says about the shown range's trades. */
function completenessLabel(quality: QualityResponse): { status: 'complete' | 'incomplete' | 'empty'; text: string } {
  if (quality.tradesStored === 0) return { status: 'empty', text: 'no trades stored in view' };
  if (quality.complete) return { status: 'complete', text: 'complete: every trade id present' };
  return { status: 'incomplete', text: `${missingTradesText(quality.missingTrades)} in view` };
}

/** Whether every trade of the shown range is stored, with the counts behind it on hover. */
export function Completeness({ quality }: { quality: QualityResponse | undefined }) {
  if (quality === undefined) return null;
  const { status, text } = completenessLabel(quality);
  const ids = quality.firstTradeId === null ? '' : ` (ids ${quality.firstTradeId}–${quality.lastTradeId ?? ''})`;
  const details =
    `${quality.tradesStored} trades stored${ids}; ${quality.windowsWithMissingTrades} candles lack trades; ` +
    `${quality.repairedTrades} trades fetched again over REST; ${quality.depthSyncs} order-book syncs. ` +
    'A hole before the first stored trade of the view does not show.';
  return (
    <div className={`completeness ${status}`} id="completeness" data-status={status} title={details}>
      {text}
    </div>
  );
}
