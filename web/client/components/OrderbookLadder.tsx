import type { BookLevel, Orderbook } from '../../shared/api-types.js';
import { spreadOf } from '../../shared/depth-curve.js';
import { formatPrice, formatQuantity, priceDecimals } from '../../shared/price-format.js';

const rows = 10;

/** The best levels of each side, asks above bids, with quantity bars. */
export function OrderbookLadder({ book }: { book: Orderbook | undefined }) {
  if (!book) return <div className="empty">No order book yet</div>;
  const asks = book.asks.slice(0, rows);
  const bids = book.bids.slice(0, rows);
  const largest = Math.max(...asks.map((l) => l[1]), ...bids.map((l) => l[1]), 0);
  const spread = spreadOf(book.bids, book.asks);
  const decimals = priceDecimals(spread?.mid ?? bids[0]?.[0] ?? asks[0]?.[0] ?? 0);
  const row = (side: 'bid' | 'ask') => (level: BookLevel) => (
    <div className={`ladder-row ${side}`} key={`${side}${level[0]}`}>
      <span className="bar" style={{ width: `${largest > 0 ? (level[1] / largest) * 100 : 0}%` }} />
      <span className="price">{formatPrice(level[0], decimals)}</span>
      <span className="qty">{formatQuantity(level[1])}</span>
    </div>
  );
  return (
    <div className="ladder" id="orderbook-ladder">
      <div className="ladder-side asks">{[...asks].reverse().map(row('ask'))}</div>
      <div className="ladder-spread">
        {spread
          ? `Spread ${formatPrice(spread.spread, decimals)} (${((spread.spread / spread.mid) * 10_000).toFixed(1)} bp)`
          : '—'}
      </div>
      <div className="ladder-side bids">{bids.map(row('bid'))}</div>
    </div>
  );
}
