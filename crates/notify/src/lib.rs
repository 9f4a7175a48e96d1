pub mod phrases; pub mod settings; pub mod templates; pub mod token;
