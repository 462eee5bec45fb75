// The chat panel's flows under PFINNI_BASE_PATH=/pfinni (see chat-suite.mjs).
import { chatSuite } from './chat-suite.mjs';

chatSuite('/pfinni');
