import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { toast } from 'sonner';
import { afterEach } from 'vitest';
import '../i18n';

afterEach(() => {
  cleanup();
  // Sonner keeps its toasts in a module-level store that a later test's <Toaster> would replay.
  toast.dismiss();
});
