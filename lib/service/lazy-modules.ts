/**
 * fastify and prom-client, loaded when a service starts rather than when `recbridge` is imported:
 * together they add about as much start-up time as the rest of the library, which programs that
 * never serve HTTP should not pay.
 */
import type * as FastifyModule from 'fastify';
import type * as PromClientModule from 'prom-client';

let fastifyModule: typeof FastifyModule | undefined;
let promClientModule: typeof PromClientModule | undefined;

export function loadFastify(): typeof FastifyModule {
  fastifyModule ??= require('fastify') as typeof FastifyModule;
  return fastifyModule;
}

export function loadPromClient(): typeof PromClientModule {
  promClientModule ??= require('prom-client') as typeof PromClientModule;
  return promClientModule;
}
