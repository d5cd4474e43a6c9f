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
    if (!element) return;
    // `responsive` only follows the window; the layout around the chart changes too
    // (the symbol strip appearing, a banner), so follow the element itself.
    const observer = new ResizeObserver(() => {
      if (element.querySelector('.main-svg')) Plotly.Plots.resize(element);
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      Plotly.purge(element);
    };
  }, []);

  return <div ref={ref} id={id} className={className} />;
}
