export default globalThis.MagicWand;
