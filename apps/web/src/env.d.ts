declare module '*.graphql' {
  const document: string;
  export default document;
}
declare module '*.css';
