/** recbridge/report: self-contained HTML reports with SVG charts. */
export { renderReport, type ReportSpec, type ReportSection, type ReportTable } from './html';
export {
  lineChart,
  barChart,
  learningCurves,
  type Chart,
  type Series,
  type LineChartSpec,
  type BarChartSpec,
  type TrainingLog,
} from './charts';
export { intervalChart, type IntervalChartSpec, type IntervalSeries } from './interval-chart';
export { escapeHtml } from './escape';
export { formatDifference, formatSigned } from './format';
