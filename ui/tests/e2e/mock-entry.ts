import { installMockBackend } from '../mock-backend';

// Options come from the test through a global set by an earlier init script.
const options = (window as unknown as { __ATELIER_MOCK_OPTIONS__?: Parameters<typeof installMockBackend>[0] })
  .__ATELIER_MOCK_OPTIONS__;
(window as unknown as { __ATELIER_MOCK__: unknown }).__ATELIER_MOCK__ = installMockBackend(options);
