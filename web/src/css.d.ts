/** Stylesheets are bundled by esbuild (into app.css), not imported as values. */
declare module "*.css";
