import Plotly from 'plotly.js-finance-dist-min';
import { useEffect, useRef } from 'react';
import type { Figure } from '../../shared/chart-figures.js';

const config = {
  displaylogo: false,
  responsive: true,
  scrollZoom: true,
  modeBarButtonsToRemove: ['select2d', 'lasso2d', 'toImage', 'autoScale2d'],
};

/**
 * A Plotly chart drawn with `Plotly.react`: each new figure updates the same plot in
 * place (no re-creation, no flicker), and the layout's `uirevision` keeps zoom and pan.
 */
export function PlotlyFigure({ figure, id, className }: { figure: Figure; id: string; className?: string }) {
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = ref.current;
    if (element) void Plotly.react(element, figure.data, figure.layout, config);
  }, [figure]);

  useEffect(() => {
    const element = ref.current;
    return () => {
      if (element) Plotly.purge(element);
    };
  }, []);

  return <div ref={ref} id={id} className={className} />;
}
