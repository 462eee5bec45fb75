// The chat panel's flows at the root path, no PFINNI_BASE_PATH (see chat-suite.mjs).
import { chatSuite } from './chat-suite.mjs';

chatSuite('');
