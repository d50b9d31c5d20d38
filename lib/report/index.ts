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
export { escapeHtml } from './escape';
