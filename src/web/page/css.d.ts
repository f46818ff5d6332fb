// esbuild bundles .css files as text (scripts/build-web.mjs): the page puts them in a <style>.
declare module '*.css' {
  const text: string;
  export default text;
}
