/** The part of Plotly's API the page uses (the finance bundle ships no types). */
declare module 'plotly.js-finance-dist-min' {
  interface PlotlyStatic {
    react(
      root: HTMLElement,
      data: Record<string, unknown>[],
      layout: Record<string, unknown>,
      config?: Record<string, unknown>,
    ): Promise<HTMLElement>;
    purge(root: HTMLElement): void;
    Plots: { resize(root: HTMLElement): void };
  }
  const Plotly: PlotlyStatic;
  export default Plotly;
}

/** Stylesheets are bundled by Vite. */
declare module '*.css';
