export const ranges = [
  { label: '5m', ms: 5 * 60_000 },
  { label: '15m', ms: 15 * 60_000 },
  { label: '1h', ms: 3600_000 },
  { label: '6h', ms: 6 * 3600_000 },
] as const;

export function RangeButtons({ selected, onSelect }: { selected: number; onSelect: (ms: number) => void }) {
  return (
    <div className="range-buttons" role="group" aria-label="Time range">
      {ranges.map((r) => (
        <button
          key={r.label}
          type="button"
          data-range={r.label}
          className={r.ms === selected ? 'selected' : ''}
          aria-pressed={r.ms === selected}
          onClick={() => onSelect(r.ms)}
        >
          {r.label}
        </button>
      ))}
    </div>
  );
}
