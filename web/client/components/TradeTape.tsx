import type { Trade } from '../../shared/api-types.js';
import { formatPrice, formatQuantity, priceDecimals } from '../../shared/price-format.js';

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
  timeZone: 'UTC',
});

/** The latest trades, newest on top, coloured by the taker's side. */
export function TradeTape({ trades }: { trades: readonly Trade[] }) {
  if (trades.length === 0) return <div className="empty">No trades yet</div>;
  const decimals = priceDecimals(trades[0]?.price ?? 0);
  return (
    <div className="tape" id="trade-tape">
      {trades.slice(0, 18).map((t) => (
        <div className={`tape-row ${t.side}`} key={t.id}>
          <span className="price">{formatPrice(t.price, decimals)}</span>
          <span className="qty">{formatQuantity(t.qty)}</span>
          <span className="time">{timeFormat.format(t.time)}</span>
        </div>
      ))}
    </div>
  );
}
