// node-postgres ships no types here (slonik brings it as a dependency); glance-db uses only its Client.
declare module 'pg' {
  const pg: { Client: new (config: Record<string, unknown>) => unknown };
  export default pg;
}
