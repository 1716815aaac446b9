// elfy ships no types; src/elf/elfy.ts describes the part of it we use.
declare module 'elfy' {
  const elfy: unknown;
  export default elfy;
}
