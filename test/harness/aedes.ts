// In-process MQTT broker (aedes) for fast tests that do not need Mosquitto's exact behaviour.
export { startEmbeddedBroker as startAedes, type EmbeddedBroker as AedesBroker } from '../../io/embedded-broker.js';
