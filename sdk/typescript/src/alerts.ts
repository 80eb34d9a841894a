// `client.alerts`: compliance alerts raised at ingest.
import { ConfigError } from "./errors.js";
import { filtersToQuery } from "./events.js";
import type { Transport } from "./http.js";
import { alertFromWire } from "./mapping.js";
import { Paginator } from "./pager.js";
import type { Alert } from "./types.js";

export interface AlertFilters {
  status?: "open" | "resolved";
  severity?: string;
  ruleId?: string;
  runId?: string;
  agentId?: string;
  policyId?: string;
  eventId?: string;
  since?: string | Date;
  /** Page size (≤ 1000, default 100). */
  limit?: number;
}

const alertPath = (id: string) => {
  if (typeof id !== "string" || id === "") throw new ConfigError("an alert id is a non-empty string");
  return `/v1/alerts/${encodeURIComponent(id)}`;
};

export class Alerts {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Alerts, newest first, every page on demand. */
  list(filters: AlertFilters = {}): Paginator<Alert> {
    const query = filtersToQuery(filters as Record<string, unknown>);
    return new Paginator(async (cursor) => {
      const page = await this.#transport.json<{ alerts: unknown[]; next_cursor: string | null }>("GET", "/v1/alerts", {
        query: { ...query, cursor },
      });
      return { items: page.alerts.map((a) => alertFromWire<Alert>(a)), nextCursor: page.next_cursor };
    });
  }

  async get(id: string): Promise<Alert> {
    return alertFromWire<Alert>(await this.#transport.json<unknown>("GET", alertPath(id)));
  }

  /** Marks the alert resolved by the caller (needs an admin key). */
  async resolve(id: string): Promise<Alert> {
    return alertFromWire<Alert>(await this.#transport.json<unknown>("POST", `${alertPath(id)}/resolve`));
  }
}
