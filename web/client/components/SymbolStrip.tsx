import type { SymbolSummary } from '../../shared/api-types.js';
import { formatPercent, formatPrice } from '../../shared/price-format.js';

/** The symbol picker: every symbol with data, its last price and 24 h change. */
export function SymbolStrip({
  symbols,
  selected,
  onSelect,
}: {
  symbols: readonly SymbolSummary[];
  selected: string | undefined;
  onSelect: (symbol: string) => void;
}) {
  return (
    <nav className="symbol-strip" aria-label="Symbols">
      {symbols.map((s) => (
        <button
          key={s.symbol}
          type="button"
          className={`symbol-chip${s.symbol === selected ? ' selected' : ''}`}
          data-symbol={s.symbol}
          aria-pressed={s.symbol === selected}
          onClick={() => onSelect(s.symbol)}
        >
          <span className="chip-symbol">{s.symbol}</span>
          <span className="chip-price">{formatPrice(s.lastPrice)}</span>
          <span className={`chip-change ${s.changePct24h >= 0 ? 'up' : 'down'}`}>{formatPercent(s.changePct24h)}</span>
        </button>
      ))}
    </nav>
  );
}
